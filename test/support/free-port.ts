// Free TCP ports on loopback (the demo uses the same helper).
export { freePort } from '../../src/demo/free-port.js';
