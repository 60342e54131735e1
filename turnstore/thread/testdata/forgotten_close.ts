// Opens a store on its own thread, writes, and ends without closing it: the
// process must still exit (as with the backend on the caller's thread).
import { openThreadStore } from "../store.ts";

const store = await openThreadStore(Deno.args[0]);
const ctx = await store.createContext();
// Not awaited: the owed answer keeps the process up until it arrives.
store.appendTurn({
  contextId: ctx.contextId,
  typeId: "test.note",
  typeVersion: 1,
  payload: new Uint8Array([1, 2, 3]),
}).then((turn) => console.log(`stored at depth ${turn.depth}`));
