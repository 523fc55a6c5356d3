#include "fake_engine/stream_format.h"

#include <cstdio>

namespace kitty::fake {

void AppendJsonString(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out += '"';
  for (char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(c) < 0x20) {
          out += "\\u00";
          out += kHex[(c >> 4) & 0xF];
          out += kHex[c & 0xF];
        } else {
          out += c;
        }
    }
  }
  out += '"';
}

StreamFormatter::StreamFormatter(Api api, std::string_view id, int64_t created,
                                 std::string_view model)
    : api_(api) {
  base_ = "{\"id\":";
  AppendJsonString(base_, id);
  base_ += api == Api::kChat ? ",\"object\":\"chat.completion.chunk\"" : ",\"object\":\"text_completion\"";
  base_ += ",\"created\":" + std::to_string(created) + ",\"model\":";
  AppendJsonString(base_, model);
  base_ += ',';
  payload_.reserve(512);
  out_.reserve(512);
}

void StreamFormatter::StartEvent() {
  payload_.clear();
  payload_ += "data: ";
  payload_ += base_;
}

void StreamFormatter::FinishEvent() {
  payload_ += "}\n\n";
  char size[24];
  const int n = std::snprintf(size, sizeof size, "%zx\r\n", payload_.size());
  out_.append(size, n);
  out_ += payload_;
  out_ += "\r\n";
}

std::string_view StreamFormatter::RoleEvent() {
  out_.clear();
  StartEvent();
  payload_ +=
      "\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
      "\"logprobs\":null,\"finish_reason\":null}]";
  FinishEvent();
  return out_;
}

std::string_view StreamFormatter::TokenEvent(std::string_view token) {
  out_.clear();
  StartEvent();
  if (api_ == Api::kChat) {
    payload_ += "\"choices\":[{\"index\":0,\"delta\":{\"content\":";
    AppendJsonString(payload_, token);
    payload_ += "},";
  } else {
    payload_ += "\"choices\":[{\"index\":0,\"text\":";
    AppendJsonString(payload_, token);
    payload_ += ',';
  }
  payload_ += "\"logprobs\":null,\"finish_reason\":null}]";
  FinishEvent();
  return out_;
}

std::string_view StreamFormatter::FinalEvents(std::string_view finish_reason, const Usage* usage) {
  out_.clear();
  StartEvent();
  payload_ += api_ == Api::kChat ? "\"choices\":[{\"index\":0,\"delta\":{},"
                                 : "\"choices\":[{\"index\":0,\"text\":\"\",";
  payload_ += "\"logprobs\":null,\"finish_reason\":";
  AppendJsonString(payload_, finish_reason);
  payload_ += "}]";
  FinishEvent();
  if (usage) {
    StartEvent();
    payload_ += "\"choices\":[],\"usage\":{\"prompt_tokens\":" +
                std::to_string(usage->prompt_tokens) +
                ",\"completion_tokens\":" + std::to_string(usage->completion_tokens) +
                ",\"total_tokens\":" +
                std::to_string(usage->prompt_tokens + usage->completion_tokens) + "}";
    FinishEvent();
  }
  static constexpr std::string_view kDone = "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n";
  out_ += kDone;
  return out_;
}

}  // namespace kitty::fake
