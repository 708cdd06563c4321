// `npm run stack`: runs the local stack in the foreground until Ctrl-C.
import { startStack } from './stack.mjs';

const stack = await startStack();
console.log('ready');
const stop = async () => {
  await stack.stop();
  process.exit(0);
};
process.on('SIGINT', stop);
process.on('SIGTERM', stop);
