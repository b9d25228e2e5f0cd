/**
 * Session lifecycle over webrtc: every way a session ends, reported exactly once per side (see matrix.ts).
 * Sequential: run concurrently, this file's tests saw the event loop blocked for ~0.7 s at a time (WebRTC
 * setup and teardown in node-datachannel), which would count against another test's deadline.
 */
import { lifecycleMatrix } from './matrix.js';

lifecycleMatrix('webrtc', { sequential: true });
