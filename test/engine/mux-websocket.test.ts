import { runMuxSuite } from './mux-suite.js';
import { websocketPair } from '../helpers/websocket-pair.js';

// The same mux behaviour over real TLS websockets (our own accept and dial on 127.0.0.1): frames
// travel in websocket messages, client to server masked.
runMuxSuite('TLS websockets', websocketPair);
