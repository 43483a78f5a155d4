// The per-call controller: drives the state machine from ACS callbacks and media events, owns the
// call's timers (answer, media connect, maximum duration, media reconnect grace), and finalizes the
// call exactly once whatever arrives first. The supervisor holds the controllers of this replica.
// The controller lives in call-controller.ts, the supervisor in call-supervisor.ts; this module
// keeps the names the rest of the worker imports.
export { CallController, CANNOT_HEAR_LINE, MEDIA_LOST_LINE } from './call-controller.js';
export {
  CallSupervisor,
  type CallSupervisorConfig,
  type CallSupervisorDeps,
  type CallSupervisorObserver,
  type CallTimeoutKind,
  type FinalizeHook,
} from './call-supervisor.js';
