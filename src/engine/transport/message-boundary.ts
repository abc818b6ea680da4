/**
 * Where messages end in a byte stream that carries messages (websocket), for a reader that must
 * check that no frame of its own spans two (docs/PROTOCOL.md section 2.3). A Readable hands on
 * pushed chunks one by one in flowing mode, so a message end travels with its last chunk: the
 * transport adds that chunk to `messageEnds`. When nothing is buffered at a message end (every
 * byte was already handed on), it emits MESSAGE_END_EVENT instead.
 */

/** Chunks that are the last bytes of a message. Weak: a chunk leaves it when it is dropped. */
export const messageEnds = new WeakSet<Buffer>();

/** Emitted by the transport when a message ended and every byte of it was already read. */
export const MESSAGE_END_EVENT = 'message-end';
