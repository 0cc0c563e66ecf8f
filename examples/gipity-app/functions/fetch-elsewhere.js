export default async function fetchElsewhere(ctx, { fetch }) {
  const response = await fetch(ctx.body.url);
  return { status: response.status };
}
