import { ConfigError, USAGE, parseConfig } from './config.ts';
import { startServer } from './app.ts';

async function main(): Promise<void> {
  let config;
  try {
    config = parseConfig(process.argv.slice(2), process.env);
  } catch (error) {
    if (error instanceof ConfigError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      console.error(`error: ${(error as Error).message}\n\n${USAGE}`);
      process.exit(2);
    }
    throw error;
  }
  if (config === 'help') {
    console.log(USAGE);
    return;
  }
  const server = await startServer(config);
  console.log(`kiloface listening on ${server.url}  (open ${server.url}/r/<room>?name=<your name>)`);
  if (!config.tlsCert && config.host !== '127.0.0.1' && config.host !== 'localhost') {
    console.warn('warning: without --cert/--key, browsers on other machines will refuse the camera (no secure context)');
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) {
      console.log('forced exit');
      process.exit(1);
    }
    stopping = true;
    console.log(`${signal}: closing rooms and connections…`);
    const force = setTimeout(() => process.exit(1), 5000);
    force.unref();
    server.close().then(() => process.exit(0));
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));
}

main().catch((error: Error) => {
  console.error(`kiloface server failed to start: ${error.message}`);
  process.exit(1);
});
