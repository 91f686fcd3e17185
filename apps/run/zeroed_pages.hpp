// Zero-filled memory straight from the kernel, in huge pages where it offers them.
#pragma once

#include <cstddef>
#include <type_traits>
#include <utility>

namespace promptpack::run {

/// Anonymous pages mapped for a large table that is touched at random. The kernel hands them out
/// zeroed, so nothing is written twice; and a table of millions of slots asks for transparent huge
/// pages, which turn its ~6,000 first-touch page faults a million slots into a dozen and spare most
/// of the TLB misses of random probes. Throws std::bad_alloc when the kernel refuses the mapping.
class zeroed_pages {
 public:
  zeroed_pages() = default;
  explicit zeroed_pages(std::size_t bytes);
  ~zeroed_pages();
  zeroed_pages(zeroed_pages&& other) noexcept
      : data_(std::exchange(other.data_, nullptr)), bytes_(std::exchange(other.bytes_, 0)) {}
  zeroed_pages& operator=(zeroed_pages&& other) noexcept {
    std::swap(data_, other.data_);
    std::swap(bytes_, other.bytes_);
    return *this;
  }

  void* data() const noexcept { return data_; }
  std::size_t bytes() const noexcept { return bytes_; }

 private:
  void* data_ = nullptr;
  std::size_t bytes_ = 0;
};

/// An array of `T` (all-zero bytes being a valid T) over zeroed_pages.
template <class T>
class zeroed_array {
  static_assert(std::is_trivially_copyable_v<T> && std::is_trivially_destructible_v<T>);

 public:
  zeroed_array() = default;
  explicit zeroed_array(std::size_t size) : pages_(size * sizeof(T)), size_(size) {}
  zeroed_array(zeroed_array&& other) noexcept
      : pages_(std::move(other.pages_)), size_(std::exchange(other.size_, 0)) {}
  zeroed_array& operator=(zeroed_array&& other) noexcept {
    swap(other);
    return *this;
  }

  T& operator[](std::size_t i) noexcept { return static_cast<T*>(pages_.data())[i]; }
  const T& operator[](std::size_t i) const noexcept {
    return static_cast<const T*>(pages_.data())[i];
  }
  std::size_t size() const noexcept { return size_; }
  bool empty() const noexcept { return size_ == 0; }
  T* begin() noexcept { return static_cast<T*>(pages_.data()); }
  T* end() noexcept { return begin() + size_; }
  void swap(zeroed_array& other) noexcept {
    std::swap(pages_, other.pages_);
    std::swap(size_, other.size_);
  }

 private:
  zeroed_pages pages_;
  std::size_t size_ = 0;
};

}  // namespace promptpack::run
