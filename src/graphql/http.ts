// The HTTP server: Apollo mounted on Fastify so /graphql shares one port with the
// operational routes.
import fastifyApollo from "@as-integrations/fastify";
import Fastify, { type FastifyInstance } from "fastify";
import type { App } from "../app.ts";
import { pendingMigrations } from "../db/migrate.ts";
import { createApolloServer } from "./apollo.ts";
import { createContext } from "./context.ts";

export interface HttpServer {
  fastify: FastifyInstance;
  url: string;
  close(): Promise<void>;
}

export async function startHttpServer(app: App, opts: { port?: number; host?: string } = {}): Promise<HttpServer> {
  const fastify = Fastify({ logger: false, bodyLimit: 10 * 1024 * 1024 });
  const apollo = createApolloServer(app);
  await apollo.start();
  await fastify.register(fastifyApollo(apollo), {
    path: "/graphql",
    context: async (request) => {
      const auth = request.headers.authorization ?? "";
      const key = /^Bearer\s+(.+)$/i.exec(auth)?.[1]?.trim();
      const keys = app.config.server.apiKeys;
      return createContext(app, { authenticated: keys.length === 0 || (key !== undefined && keys.includes(key)), clientId: request.ip });
    },
  });
  fastify.get("/healthz", async () => ({ status: "ok" }));
  fastify.get("/readyz", async (_req, reply) => {
    try {
      const pending = await pendingMigrations(app.db);
      if (pending.length) return reply.code(503).send({ status: "migrations pending", pending });
      return { status: "ready", database: app.db.backend };
    } catch {
      return reply.code(503).send({ status: "database unreachable" });
    }
  });
  const address = await fastify.listen({ port: opts.port ?? app.config.server.port, host: opts.host ?? app.config.server.host });
  return {
    fastify,
    url: address.replace("[::1]", "localhost"),
    async close() {
      await fastify.close();
      await apollo.stop();
    },
  };
}
