import { runMuxSuite } from './mux-suite.js';
import { makeTcpPair } from '../helpers/tcp-pair.js';

// Over TCP, frames are split and packed at arbitrary points by the kernel.
runMuxSuite('a loopback TCP connection', makeTcpPair);
