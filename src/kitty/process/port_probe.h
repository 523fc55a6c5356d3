// Port probes: is a TCP port free to listen on, and which port of a range to give a worker.
// Synchronous (a bind and close), cheap enough to call on the loop thread. A probe is advice,
// not a reservation: another process may take the port before the worker binds it, and the
// worker's own bind error is still the final word.
#pragma once

#include <set>
#include <string>

#include "kitty/base/result.h"
#include "kitty/config/config.h"

namespace kitty {

/// OK when a listener could bind `host:port` now. A port held by a listener (or any bound
/// socket) gives code "port_in_use" and the message
/// "port 7001 on 127.0.0.1 is already in use by another process"; so does a port that a live
/// connection of another process is bound to (its bind would fail too). Connections lingering
/// in TIME_WAIT do not count: workers bind with SO_REUSEADDR.
Status CheckPortFree(const std::string& host, int port);

/// A free port in [range.first, range.last] not in `exclude`. Scans from a rotating start so
/// consecutive picks differ (a port just released by a stopped worker is not handed out again
/// at once). Error code "no_free_port" when every port is taken.
Result<int> PickFreePort(const std::string& host, PortRange range, const std::set<int>& exclude);

}  // namespace kitty
