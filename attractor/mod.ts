/**
 * @forge/attractor (being built).
 *
 * @module
 */

/** The member's name. */
export const MEMBER = "@forge/attractor";
