export default async function whoami(ctx) {
  return ctx.auth;
}
