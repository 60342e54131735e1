import { defineClientSuite } from "../testing/client_suite.ts";
import { startPeer } from "../testing/peer.ts";

defineClientSuite("client (protocol peer)", async () => {
  const peer = await startPeer();
  return {
    hostname: "127.0.0.1",
    port: peer.port,
    httpUrl: peer.httpUrl,
    close: () => peer.close(),
  };
});

const addr = Deno.env.get("CXDB_TEST_ADDR");
const http = Deno.env.get("CXDB_TEST_HTTP");
defineClientSuite(
  "client (real server)",
  addr && http
    ? async () => {
      const [hostname, port] = addr.split(":");
      return { hostname, port: Number(port), httpUrl: http };
    }
    : undefined,
);
