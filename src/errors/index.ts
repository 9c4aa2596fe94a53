export { type KeelErrorCode, KeelErrorCodes } from './codes.ts'
export { isKeelError, KeelError, type KeelErrorOptions } from './keel-error.ts'
