/** The dashboard's server side: what the composition root (bin/) and the tests use. */
export {
  startDashboard,
  DashboardListenError,
  DEFAULT_HOST,
  DEFAULT_PORT,
  DEFAULT_STATIC_DIR,
  WS_PATH,
} from './server.ts';
export type { DashboardOptions, DashboardServer } from './server.ts';
export type { DashboardActions, DashboardStatus } from './hub.ts';
export { dashboardOrigin } from './hub.ts';
export { startRigDashboard } from './rig-dashboard.ts';
export type { RigDashboardOptions } from './rig-dashboard.ts';
export { ProtocolError, parseClientMessage, type ErrorCode } from './validate.ts';
