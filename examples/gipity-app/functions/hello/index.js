// A function in a directory of its own: functions/hello/index.js.
export default async function hello(ctx, { env, secrets, console, guid }) {
  const name = ctx.body.name ?? 'stranger';
  console.log(`greeting ${name}`);
  return {
    greeting: `${env.GREETING}, ${name}!`,
    method: ctx.method,
    query: ctx.query,
    headers: ctx.headers,
    auth: ctx.auth,
    isTest: ctx.isTest,
    hasApiKey: typeof secrets.API_KEY === 'string',
    id: guid('greeting'),
  };
}
