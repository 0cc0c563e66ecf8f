export default async function slow(ctx) {
  await new Promise((resolve) => setTimeout(resolve, ctx.body.ms ?? 0));
  return { ms: ctx.body.ms ?? 0 };
}
