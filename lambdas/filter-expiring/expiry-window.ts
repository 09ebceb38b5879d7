/**
 * Which accreditations expire within the window: as_of <= valid_until <= as_of + N calendar
 * months, both ends inclusive, the end clamped to the last day of a shorter month the way
 * Athena's date_add('month', N, as_of) clamps it.
 */
import { addMonths, daysBetween } from "../../core/calendar-date";
import type { Accreditation, Facility } from "./facility-validation";

export interface ExpiryWindow {
  /** First day of the window (the as-of date), YYYY-MM-DD. */
  readonly asOf: string;
  readonly months: number;
  /** Last day of the window, YYYY-MM-DD. */
  readonly end: string;
}

/** The window of `months` calendar months starting on `asOf` (a calendar date). */
export function expiryWindow(asOf: string, months: number): ExpiryWindow {
  return { asOf, months, end: addMonths(asOf, months) };
}

/** True when as_of <= validUntil <= end: the one test of the window. Dates in YYYY-MM-DD sort as strings. */
export function expiresWithin(validUntil: string, window: ExpiryWindow): boolean {
  return validUntil >= window.asOf && validUntil <= window.end;
}

export interface ExpiringAccreditation extends Accreditation {
  /** Days from the as-of date to valid_until: 0 on the as-of date itself. */
  readonly days_until_expiry: number;
}

/** One line of the expiring output. */
export interface ExpiringFacility {
  readonly facility_id: string;
  readonly facility_name: string;
  readonly state: string;
  /** Only the accreditations inside the window. */
  readonly accreditations: readonly ExpiringAccreditation[];
}

export type ExpiryStatus =
  /** At least one accreditation expires within the window. */
  | { readonly kind: "expiring"; readonly facility: ExpiringFacility }
  /** Has accreditations and every one expired before the as-of date. */
  | { readonly kind: "expired" }
  /** No accreditation, or some valid beyond the window and none within it. */
  | { readonly kind: "current" };

const EXPIRED: ExpiryStatus = { kind: "expired" };
const CURRENT: ExpiryStatus = { kind: "current" };

/** Classifies a valid facility against the window. */
export function expiryStatus(facility: Facility, window: ExpiryWindow): ExpiryStatus {
  let expiring: ExpiringAccreditation[] | undefined;
  let allExpired = facility.accreditations.length > 0;
  for (const accreditation of facility.accreditations) {
    const validUntil = accreditation.valid_until;
    if (validUntil >= window.asOf) allExpired = false;
    if (expiresWithin(validUntil, window)) {
      (expiring ??= []).push({
        accreditation_body: accreditation.accreditation_body,
        accreditation_id: accreditation.accreditation_id,
        valid_until: validUntil,
        days_until_expiry: daysBetween(window.asOf, validUntil),
      });
    }
  }
  if (expiring !== undefined) {
    return {
      kind: "expiring",
      facility: {
        facility_id: facility.facility_id,
        facility_name: facility.facility_name,
        state: facility.location.state,
        accreditations: expiring,
      },
    };
  }
  return allExpired ? EXPIRED : CURRENT;
}
