// API keys. Reads are open unless MONOSCOPE_READS_REQUIRE_KEY; mutations need
// `Authorization: Bearer <key>` whenever MONOSCOPE_API_KEYS is set. The check is one
// Apollo plugin hook that runs once the operation is known and before any resolver,
// so no mutation can do anything (not even validate its arguments) unauthenticated.
import { createHash, timingSafeEqual } from "node:crypto";
import type { ApolloServerPlugin } from "@apollo/server";
import { GraphQLError } from "graphql";
import type { Config } from "../config.ts";
import type { GraphQLContext } from "./context.ts";

const digest = (s: string) => createHash("sha256").update(s).digest();

export interface Caller {
  authenticated: boolean;
  /** Who to rate-limit: a key's fingerprint, else the client address. Never the key itself. */
  clientId: string;
}

/** Who is calling, from the Authorization header and the peer address. */
export function identifyCaller(server: Config["server"], authorization: string | undefined, ip: string): Caller {
  const key = /^Bearer\s+(\S+)\s*$/i.exec(authorization ?? "")?.[1];
  if (key === undefined) return { authenticated: server.apiKeys.length === 0, clientId: `ip:${ip}` };
  const d = digest(key);
  // Constant-time comparison of fixed-length digests: no timing hint about the keys.
  const valid = server.apiKeys.some((k) => timingSafeEqual(digest(k), d));
  if (!valid) return { authenticated: server.apiKeys.length === 0, clientId: `ip:${ip}` };
  return { authenticated: true, clientId: `key:${d.toString("hex").slice(0, 12)}` };
}

export function unauthenticated(message: string): GraphQLError {
  return new GraphQLError(message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401, headers: new Map([["www-authenticate", 'Bearer realm="monoscope"']]) } } });
}

/** Refuses unauthenticated writes (and reads, when configured) and unsupported operation types before execution. */
export function authPlugin(server: Config["server"]): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ operation, operationName, contextValue }) {
          const type = operation?.operation ?? null;
          contextValue.request.operationType = type;
          contextValue.request.operationName = operationName ?? null;
          if (!contextValue.caller.authenticated) {
            // Anything that is not a query is a write (mutation, subscription, whatever comes next).
            if (type !== null && type !== "query") {
              throw unauthenticated(`this ${type} needs an API key: send Authorization: Bearer <key>`);
            }
            if (server.readsRequireKey) throw unauthenticated("this server requires an API key for every request: send Authorization: Bearer <key>");
          }
          if (type !== null && type !== "query" && type !== "mutation") {
            throw new GraphQLError(`${type} operations are not supported by this server: the schema has only query and mutation`, {
              extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } },
            });
          }
        },
      };
    },
  };
}
