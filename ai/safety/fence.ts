/**
 * Customer text is data, never instructions: it reaches a model only inside a fence (an XML-like
 * element), and every `&`, `<` and `>` in it is escaped, so the text cannot close the fence or open
 * another one whatever it contains.
 */
export function escapeFenced(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

export function fence(tag: string, attributes: Record<string, string>, text: string): string {
  const attrs = Object.entries(attributes).map(([k, v]) => ` ${k}="${escapeFenced(v).replace(/"/g, '&quot;')}"`).join('');
  return `<${tag}${attrs}>\n${escapeFenced(text)}\n</${tag}>`;
}
