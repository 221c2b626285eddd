/** Shared pieces of the control-plane tests: an admin client on a started relay, status checks. */
import type { status } from '@grpc/grpc-js';
import { type AdminClient, createAdminClient } from '@remoted/sdk/admin';
import type { StartedRelay } from '../helpers/start-relay';

export function adminClientFor(relay: StartedRelay, key: string = relay.keys.admin): AdminClient {
  return createAdminClient({ address: `127.0.0.1:${relay.grpcPort}`, key });
}

/** Resolves with the error's details when the call fails with `code`. */
export async function expectStatus(call: Promise<unknown>, code: status): Promise<string> {
  let error: unknown;
  try {
    await call;
  } catch (err) {
    error = err;
  }
  expect(error).toMatchObject({ code });
  return (error as { details: string }).details;
}

/** The key id of a resource name `keys/{id}`. */
export const idOf = (name: string): string => name.slice(name.indexOf('/') + 1);
