/** a + (b − a) w, element by element: landmarks between two frames, geometry between two packets. */
export function lerp(a: ArrayLike<number>, b: ArrayLike<number>, w: number): Float32Array {
  const out = new Float32Array(a.length);
  for (let i = 0; i < a.length; i++) out[i] = a[i]! + (b[i]! - a[i]!) * w;
  return out;
}
