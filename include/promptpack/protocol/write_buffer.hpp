// Low-level API: a reused byte buffer that encoders write into in place, with no zero-fill.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace promptpack {

/// The bytes of one request body (or any text an encoder builds), written in place.
///
/// A std::string grows only by appending or by a resize that zero-fills: a writer that stores a
/// whole 16-byte block and keeps part of it cannot use it. Here the storage keeps its high-water
/// size, so room() is only zero-filled the first time a buffer grows that far, and a writer may
/// store past what it keeps: commit() says where its text ends.
class write_buffer {
 public:
  std::string_view view() const noexcept { return {storage_.data(), size_}; }
  const char* data() const noexcept { return storage_.data(); }
  std::size_t size() const noexcept { return size_; }
  /// Empties the buffer; its storage is kept for the next text.
  void clear() noexcept { size_ = 0; }

  /// At least `bytes` writable bytes past the end. Whatever is written there is kept only up to
  /// a commit().
  char* room(std::size_t bytes) { return room_at(storage_.data() + size_, bytes); }
  /// As room(), from `at`: a place inside the room already given (bytes written there before
  /// `at` are kept). The storage may move: use the returned pointer from then on.
  char* room_at(char* at, std::size_t bytes) {
    const auto offset = static_cast<std::size_t>(at - storage_.data());
    if (storage_.size() - offset < bytes)
      storage_.resize(std::max(offset + bytes, storage_.size() * 2));
    return storage_.data() + offset;
  }
  /// Ends the text at `end`, a place inside the room.
  void commit(const char* end) noexcept { size_ = static_cast<std::size_t>(end - storage_.data()); }

  void append(std::string_view text) {
    char* at = room(text.size());
    std::memcpy(at, text.data(), text.size());
    size_ += text.size();
  }

 private:
  std::string storage_;  // its size is the high-water mark; bytes past size_ are scratch
  std::size_t size_ = 0;
};

}  // namespace promptpack
