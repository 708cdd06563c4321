// `npm run stack` (and the test and demo scripts): runs the local stack in the foreground
// until Ctrl-C. With --www it also serves the demo page.
import { startStack } from './stack.mjs';
import { serveWww } from './www.mjs';

const stack = await startStack();
let www = null;
if (process.argv.includes('--www')) {
  const port = Number(process.env.KBP_WWW_PORT ?? 8080);
  www = await serveWww(port, stack.info);
  console.log(`demo: http://127.0.0.1:${port}/`);
}
console.log('ready');
const stop = async () => {
  if (www) www.close();
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
