/** `@playhouse/client`: the SDK (PlayhouseClient, guestLogin) and every wire type it speaks. */
export * from './client';
export * from './protocol';
