-- Soft delete of an SAE: deleteSae turns it 'deleting' (every read path that resolves an SAE or a
-- feature filters on status = 'ready', so new requests no longer find it), and its rows and
-- partitions are dropped once a grace period longer than any read request has passed
-- (MONOSCOPE_DELETE_GRACE_MS, counted from updated_at, set by the flip). A request that resolved
-- the SAE before the flip still reads all of it meanwhile. A 'deleting' SAE whose process went away
-- is dropped by the next start or delete.
ALTER TABLE "sae" DROP CONSTRAINT "sae_status_check";
ALTER TABLE "sae" ADD CONSTRAINT "sae_status_check" CHECK ("status" IN ('loading', 'ready', 'deleting'));
