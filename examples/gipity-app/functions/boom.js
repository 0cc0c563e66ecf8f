export default async function boom(ctx) {
  console.error('about to fail');
  throw new Error(`no item ${ctx.body.id}`);
}
