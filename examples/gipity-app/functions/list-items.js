export default async function listItems(ctx, { db }) {
  const { rows } = await db.query(
    'SELECT id, name, price, tags, added_at FROM items WHERE category = $1 ORDER BY id',
    [ctx.body.category],
  );
  return rows;
}
