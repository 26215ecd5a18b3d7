/**
 * The parts of the MCP SDK the server uses, as one module: `scripts/build.mjs` bundles this file
 * alone into `dist/vendor/mcp.cjs`, required (with a V8 code cache) only when `^mcp` loads
 * src/mcp/, so no other command pays for the SDK. Import it only from modules loaded lazily.
 */
export { Server } from '@modelcontextprotocol/sdk/server/index.js';
export { StdioServerTransport } from '@modelcontextprotocol/sdk/server/stdio.js';
/** The HTTP transport (and the web streams and fetch classes it loads) only for `--http`. */
export const loadHttpTransport = () => import('@modelcontextprotocol/sdk/server/streamableHttp.js').then((m) => m.StreamableHTTPServerTransport);
export {
  CallToolRequestSchema,
  ErrorCode,
  ListResourcesRequestSchema,
  ListToolsRequestSchema,
  McpError,
  ReadResourceRequestSchema,
} from '@modelcontextprotocol/sdk/types.js';
export type { CallToolResult, Tool } from '@modelcontextprotocol/sdk/types.js';
