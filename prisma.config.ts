// Prisma CLI configuration. Monoscope applies migrations itself (`monoscope migrate`);
// `prisma migrate deploy` also works where the Prisma schema engine is available.
import { defineConfig } from "prisma/config";

export default defineConfig({
  schema: "prisma/schema.prisma",
  migrations: { path: "prisma/migrations" },
  datasource: { url: process.env.DATABASE_URL ?? "postgresql://localhost:5432/monoscope" },
});
