export default async function countItems(ctx, { db }) {
  const { rows } = await db.query('SELECT COUNT(*) AS count FROM items WHERE category = $1', [ctx.body.category]);
  // COUNT(*) is an int8: node-postgres (and Gipity) hand it over as a string.
  return { raw: rows[0].count, count: parseInt(rows[0].count, 10) };
}
