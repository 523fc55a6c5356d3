#include "kitty/http/chunked.h"

#include "kitty/http/hex.h"

namespace kitty::web {
namespace {

// A chunk larger than this is not a real worker's answer but a broken or hostile size line.
constexpr uint64_t kMaxChunk = uint64_t{1} << 40;

}  // namespace

ChunkedScanner::Step ChunkedScanner::feed(std::string_view piece, std::vector<Span>* spans) {
  Step step;
  size_t i = 0;
  auto fail = [&] {
    step.consumed = i;
    step.error = true;
    return step;
  };
  while (i < piece.size() && state_ != State::kDone) {
    const char c = piece[i];
    switch (state_) {
      case State::kSizeStart:
      case State::kSize: {
        const int d = HexDigit(c);
        if (d >= 0) {
          if (state_ == State::kSizeStart) size_ = 0;
          if (size_ > kMaxChunk) return fail();
          size_ = size_ * 16 + static_cast<uint64_t>(d);
          state_ = State::kSize;
        } else if (state_ == State::kSize && (c == ';' || c == ' ' || c == '\t')) {
          state_ = State::kExtension;
        } else if (state_ == State::kSize && c == '\r') {
          state_ = State::kSizeLf;
        } else {
          return fail();
        }
        ++i;
        break;
      }
      case State::kExtension:
        if (c == '\r') state_ = State::kSizeLf;
        else if (c == '\n') return fail();
        ++i;
        break;
      case State::kSizeLf:
        if (c != '\n') return fail();
        ++i;
        if (size_ == 0) {
          state_ = State::kTrailerStart;
        } else {
          left_ = size_;
          state_ = State::kData;
        }
        break;
      case State::kData: {
        const size_t n = static_cast<size_t>(std::min<uint64_t>(left_, piece.size() - i));
        if (spans) {
          // Adjacent spans (a chunk split across feeds never is; a piece may hold several
          // chunks) are kept apart: each is one chunk's data.
          spans->push_back({i, n});
        }
        i += n;
        left_ -= n;
        if (left_ == 0) state_ = State::kDataCr;
        break;
      }
      case State::kDataCr:
        if (c != '\r') return fail();
        state_ = State::kDataLf;
        ++i;
        break;
      case State::kDataLf:
        if (c != '\n') return fail();
        state_ = State::kSizeStart;
        ++i;
        break;
      case State::kTrailerStart:
        state_ = c == '\r' ? State::kFinalLf : State::kTrailer;
        ++i;
        break;
      case State::kTrailer:
        if (c == '\r') state_ = State::kTrailerLf;
        ++i;
        break;
      case State::kTrailerLf:
        if (c != '\n') return fail();
        state_ = State::kTrailerStart;
        ++i;
        break;
      case State::kFinalLf:
        if (c != '\n') return fail();
        state_ = State::kDone;
        ++i;
        break;
      case State::kDone:
        break;
    }
  }
  step.consumed = i;
  step.done = state_ == State::kDone;
  return step;
}

}  // namespace kitty::web
