/**
 * @forge/cli (being built).
 *
 * @module
 */

/** The member's name. */
export const MEMBER = "@forge/cli";
