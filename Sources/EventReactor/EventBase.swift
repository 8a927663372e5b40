import CLibevent

/// Owns one libevent `event_base` on the epoll backend; freed with the owner.
/// Exists so that the non-`Sendable` `OpaquePointer` is wrapped once.
final class EventBase: @unchecked Sendable {
    let pointer: OpaquePointer

    /// Creates a base on epoll; throws if libevent cannot give us epoll.
    /// The corresponding C functions are `event_config_new`, `event_base_new_with_config`.
    init(preciseTimers: Bool) throws(ReactorError) {
        guard let config = event_config_new() else { throw ReactorError(.backend, "event_config_new") }
        defer { event_config_free(config) }
        event_config_avoid_method(config, "select")
        event_config_avoid_method(config, "poll")
        if preciseTimers { event_config_set_flag(config, Int32(EVENT_BASE_FLAG_PRECISE_TIMER.rawValue)) }
        event_config_set_flag(config, Int32(EVENT_BASE_FLAG_NOLOCK.rawValue))
        guard let base = event_base_new_with_config(config) else {
            throw ReactorError(.backend, "event_base_new_with_config")
        }
        let method = String(cString: event_base_get_method(base))
        guard method == "epoll" else {
            event_base_free(base)
            throw ReactorError(.backend, "libevent chose \(method), not epoll")
        }
        pointer = base
    }

    /// Every event libevent has added to this base (ours and its own), as libevent counts them.
    /// The corresponding C function is `event_base_get_num_events`.
    var addedEventCount: Int { Int(event_base_get_num_events(pointer, EVENT_BASE_COUNT_ADDED)) }

    deinit { event_base_free(pointer) }
}
