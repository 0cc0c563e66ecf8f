export default async function countItems(ctx, { db }) {
  const { rows } = await db.query('SELECT COUNT(*) AS count FROM items WHERE category = $1', [ctx.body.category]);
  return { count: parseInt(rows[0].count, 10) };
}
