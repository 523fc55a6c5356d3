// ChunkedScanner: follows the framing of a chunked HTTP/1.1 body as its bytes arrive, without
// copying them. It says which spans of each piece are data, where the body ends, and whether
// the scanner sits between two chunks — a piece that starts and ends there can be relayed to
// the client byte for byte, without re-encoding (the proxy's fast path, issue 8).
//
// Strict RFC 9112 framing (CRLF line ends, hex sizes, extensions and trailers skipped). Plain
// data; one per response, on one thread.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace kitty::web {

class ChunkedScanner {
 public:
  struct Span {
    size_t offset;  // into the piece given to feed()
    size_t size;
  };
  struct Step {
    size_t consumed = 0;  // bytes of the piece that belong to this body (the rest does not)
    bool done = false;    // the last chunk and the trailer section are complete
    bool error = false;   // malformed framing; nothing after `consumed` was understood
  };

  /// Scans `piece`, appending its data spans to `spans` (if not null).
  Step feed(std::string_view piece, std::vector<Span>* spans);
  /// Between chunks (where a chunk-size line starts), or after the end of the body.
  bool at_boundary() const { return state_ == State::kSizeStart || state_ == State::kDone; }
  bool done() const { return state_ == State::kDone; }

 private:
  enum class State {
    kSizeStart,     // the first hex digit of a chunk-size line
    kSize,          // more hex digits, then ';' or CR
    kExtension,     // ";name=value" up to CR
    kSizeLf,        // LF of the size line
    kData,          // `left_` data bytes
    kDataCr,        // CR after the data
    kDataLf,        // LF after the data
    kTrailerStart,  // CR of the final empty line, or a trailer field
    kTrailer,       // a trailer field up to CR
    kTrailerLf,     // LF after a trailer field
    kFinalLf,       // LF of the final empty line
    kDone,
  };
  State state_ = State::kSizeStart;
  uint64_t size_ = 0;
  uint64_t left_ = 0;
};

}  // namespace kitty::web
