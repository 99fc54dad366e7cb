// The TypeScript SDK side of atomcp's benchmark (bench/README.md): one
// echo tool over Streamable HTTP, written the way the SDK's own examples
// do it (createMcpExpressApp, McpServer.registerTool with a zod schema,
// StreamableHTTPServerTransport), behind the SDK's requireBearerAuth with
// an RS256 check by jose. It is the yardstick, so nothing is tuned.
//
//   node server.mjs [--port 0] [--public-key key.pem --issuer ISS --audience AUD] [--stateless]
//
// Without --public-key there is no bearer check. It prints
// "ts-sdk serving http://127.0.0.1:PORT/mcp" once it listens.
import { randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { parseArgs } from 'node:util';

import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { createMcpExpressApp } from '@modelcontextprotocol/sdk/server/express.js';
import { requireBearerAuth } from '@modelcontextprotocol/sdk/server/auth/middleware/bearerAuth.js';
import { InvalidTokenError } from '@modelcontextprotocol/sdk/server/auth/errors.js';
import { isInitializeRequest } from '@modelcontextprotocol/sdk/types.js';
import { importSPKI, jwtVerify } from 'jose';
import * as z from 'zod/v4';

const { values: opts } = parseArgs({
  options: {
    port: { type: 'string', default: '0' },
    'public-key': { type: 'string' },
    issuer: { type: 'string', default: 'https://bench.example' },
    audience: { type: 'string', default: '' },
    stateless: { type: 'boolean', default: false },
  },
});

function newServer() {
  const server = new McpServer({ name: 'bench-ts-echo', version: '1.0.0' });
  server.registerTool(
    'echo',
    { description: 'Echo the message back', inputSchema: { message: z.string() } },
    async ({ message }) => ({ content: [{ type: 'text', text: message }] }),
  );
  return server;
}

const app = createMcpExpressApp();
const handlers = [];

if (opts['public-key']) {
  const key = await importSPKI(readFileSync(opts['public-key'], 'utf8'), 'RS256');
  const verifier = {
    async verifyAccessToken(token) {
      try {
        const { payload } = await jwtVerify(token, key, {
          algorithms: ['RS256'],
          issuer: opts.issuer,
          audience: opts.audience || undefined,
          requiredClaims: ['exp', 'sub'],
        });
        return {
          token,
          clientId: String(payload.client_id ?? payload.sub),
          scopes: typeof payload.scope === 'string' ? payload.scope.split(' ').filter(Boolean) : [],
          expiresAt: payload.exp,
          extra: { sub: payload.sub },
        };
      } catch (err) {
        throw new InvalidTokenError(err.message);
      }
    },
  };
  handlers.push(requireBearerAuth({ verifier }));
}

const jsonRpcError = (res, status, code, message) =>
  res.status(status).json({ jsonrpc: '2.0', error: { code, message }, id: null });

if (opts.stateless) {
  // The SDK's stateless example: a server and a transport per request.
  app.post('/mcp', ...handlers, async (req, res) => {
    const server = newServer();
    try {
      const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
      await server.connect(transport);
      await transport.handleRequest(req, res, req.body);
      res.on('close', () => {
        transport.close();
        server.close();
      });
    } catch (err) {
      console.error('error handling MCP request:', err);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error');
    }
  });
} else {
  // The SDK's stateful example: a transport per session, kept by id.
  const transports = new Map();
  app.post('/mcp', ...handlers, async (req, res) => {
    try {
      const sid = req.headers['mcp-session-id'];
      let transport = sid ? transports.get(sid) : undefined;
      if (!transport) {
        if (sid) return jsonRpcError(res, 404, -32001, 'Session not found');
        if (!isInitializeRequest(req.body)) return jsonRpcError(res, 400, -32000, 'Bad Request: No valid session ID provided');
        transport = new StreamableHTTPServerTransport({
          sessionIdGenerator: () => randomUUID(),
          onsessioninitialized: (id) => transports.set(id, transport),
        });
        transport.onclose = () => {
          if (transport.sessionId) transports.delete(transport.sessionId);
        };
        await newServer().connect(transport);
      }
      await transport.handleRequest(req, res, req.body);
    } catch (err) {
      console.error('error handling MCP request:', err);
      if (!res.headersSent) jsonRpcError(res, 500, -32603, 'Internal server error');
    }
  });
  const sessionRequest = async (req, res) => {
    const transport = transports.get(req.headers['mcp-session-id']);
    if (!transport) return res.status(400).send('Invalid or missing session ID');
    await transport.handleRequest(req, res);
  };
  app.get('/mcp', ...handlers, sessionRequest);
  app.delete('/mcp', ...handlers, sessionRequest);
}

const listener = app.listen(Number(opts.port), '127.0.0.1', (err) => {
  if (err) {
    console.error('listen:', err);
    process.exit(1);
  }
  console.log(`ts-sdk serving http://127.0.0.1:${listener.address().port}/mcp`);
});
process.on('SIGTERM', () => process.exit(0));
process.on('SIGINT', () => process.exit(0));
