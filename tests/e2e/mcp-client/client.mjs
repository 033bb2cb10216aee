// The MCP client of tests/e2e/t_mcp.sh: the official TypeScript SDK's
// Client over its StdioClientTransport, which spawns `manta mcp` as any MCP
// host would. It connects (initialize, notifications/initialized), lists the
// tools, calls every read-only one, and prints one JSON object on stdout for
// the scenario to check:
//
//   {"server": serverInfo, "capabilities": …, "instructions": …,
//    "tools": [{"name", "readOnly", "inputSchema"}],
//    "calls": {"TOOL": {"isError", "text", "value" (the text parsed)}},
//    "progress": {"TOOL": [messages]}}
//
//   node client.mjs MANTA SOCKET [ARGS_JSON]
//
// ARGS_JSON maps a tool to its arguments ({"ping": {"host": "bob"}}); other
// tools are called with {}. Every call asks for progress notifications.
// Anything unexpected from the SDK (a malformed message, a timeout) throws,
// and node exits non-zero.
import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StdioClientTransport } from '@modelcontextprotocol/sdk/client/stdio.js';

const [manta, socket, argsJson] = process.argv.slice(2);
if (!manta || !socket) {
	console.error('usage: node client.mjs MANTA SOCKET [ARGS_JSON]');
	process.exit(2);
}
const toolArgs = JSON.parse(argsJson || '{}');

const transport = new StdioClientTransport({
	command: manta,
	args: ['--socket', socket, 'mcp'],
	stderr: 'inherit',
});
const client = new Client({ name: 'manta-e2e', version: '1.0.0' });
await client.connect(transport);

const out = {
	server: client.getServerVersion(),
	capabilities: client.getServerCapabilities(),
	instructions: client.getInstructions(),
	tools: [],
	calls: {},
	progress: {},
};
const { tools } = await client.listTools();
for (const t of tools) {
	out.tools.push({
		name: t.name,
		readOnly: t.annotations?.readOnlyHint === true,
		inputSchema: t.inputSchema,
	});
}
for (const t of out.tools.filter((x) => x.readOnly)) {
	const messages = [];
	const r = await client.callTool(
		{ name: t.name, arguments: toolArgs[t.name] ?? {} },
		undefined,
		{ onprogress: (p) => messages.push(p.message ?? p.progress), timeout: 30000 },
	);
	if (!Array.isArray(r.content) || r.content.length !== 1 || r.content[0].type !== 'text') {
		throw new Error(`${t.name}: content is not one text block: ${JSON.stringify(r)}`);
	}
	const text = r.content[0].text;
	out.calls[t.name] = {
		isError: r.isError === true,
		text,
		value: r.isError ? null : JSON.parse(text),
	};
	out.progress[t.name] = messages;
}
await client.close();
console.log(JSON.stringify(out));
