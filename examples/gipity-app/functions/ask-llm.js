export default async function askLlm(ctx, { llm }) {
  return llm.chat({ prompt: ctx.body.prompt });
}
