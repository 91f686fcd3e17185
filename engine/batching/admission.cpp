// The pending window: first come, first admitted, and a refusal for everyone once closed.
#include "batching/admission.hpp"

namespace promptpack::detail {

admission::verdict admission::acquire_async(std::size_t count, admit_handler& admit) {
  if (closed_) return verdict::refused;
  if (waiting_.empty() && fits(count)) {
    pending_ += count;
    return verdict::admitted;
  }
  waiting_.emplace_back(count, std::move(admit));
  return verdict::waiting;
}

void admission::release(std::size_t count, std::vector<admit_handler>& admitted) {
  pending_ -= count;
  while (!waiting_.empty() && fits(waiting_.front().first)) {
    pending_ += waiting_.front().first;
    admitted.push_back(std::move(waiting_.front().second));
    waiting_.pop_front();
  }
  room_cv_.notify_all();
  if (pending_ == 0) idle_cv_.notify_all();
}

void admission::close(std::vector<admit_handler>& refused) {
  closed_ = true;
  for (auto& waiting : waiting_) refused.push_back(std::move(waiting.second));
  waiting_.clear();
  room_cv_.notify_all();
}

}  // namespace promptpack::detail
