// mmap(2) of anonymous memory, advised to huge pages when large enough to fill one.
#include "run/zeroed_pages.hpp"

#include <sys/mman.h>

#include <new>

namespace promptpack::run {

// The size of a transparent huge page on x86-64 and most arm64 kernels; a smaller table gains
// nothing from the advice.
constexpr std::size_t huge_page_bytes = std::size_t{2} << 20;

zeroed_pages::zeroed_pages(std::size_t bytes) : bytes_(bytes) {
  if (bytes == 0) return;
  void* mapped = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mapped == MAP_FAILED) throw std::bad_alloc();
  // Only advice: a kernel without transparent huge pages, or one set to "never", maps 4 KiB pages.
  if (bytes >= huge_page_bytes) ::madvise(mapped, bytes, MADV_HUGEPAGE);
  data_ = mapped;
}

zeroed_pages::~zeroed_pages() {
  if (data_ != nullptr) ::munmap(data_, bytes_);
}

}  // namespace promptpack::run
