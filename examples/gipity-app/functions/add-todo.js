export default async function addTodo(ctx, { db }) {
  const { rows } = await db.query(
    'INSERT INTO todos (user_guid, title) VALUES ($1, $2) RETURNING id, title, done',
    [ctx.auth.userGuid, ctx.body.title],
  );
  return rows[0];
}
