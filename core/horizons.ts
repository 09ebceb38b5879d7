/**
 * The horizons of the expiry digest (sql/expiry_digest.sql's `horizon` column), in the order a
 * reader meets them: expired in the look-back period, then days left until the window's end.
 */
export const HORIZONS = ["expired", "0-30", "31-60", "61-90", "91-180", "beyond"] as const;
export type Horizon = (typeof HORIZONS)[number];

/** How a reader sees a horizon: "expired", "0-30 days", ..., "beyond 180 days". */
export function horizonLabel(horizon: Horizon): string {
  if (horizon === "expired") return horizon;
  return horizon === "beyond" ? "beyond 180 days" : `${horizon} days`;
}
