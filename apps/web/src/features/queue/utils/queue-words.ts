/** A wait in words, coarse on purpose: an estimate is not a promise to the second. */
export function formatWait(seconds: number): string {
  if (seconds < 60) return 'less than a minute';
  const minutes = Math.round(seconds / 60);
  if (minutes < 60) return `about ${minutes} minute${minutes === 1 ? '' : 's'}`;
  const hours = Math.floor(minutes / 60);
  const rest = minutes % 60;
  const h = `${hours} hour${hours === 1 ? '' : 's'}`;
  return rest === 0 ? `about ${h}` : `about ${h} ${rest} min`;
}

/**
 * The place as a screen reader hears it: exact near the front, rounded further back, so that a
 * polite live region speaks when something worth hearing changed, not at every poll.
 */
export function placeForSpeech(place: number, ahead: number | null): string {
  const people = ahead ?? Math.max(0, place - 1);
  if (people === 0) return 'You are next in line.';
  if (people <= 10)
    return `You are number ${place} in line, ${people} ${people === 1 ? 'person' : 'people'} ahead of you.`;
  const step = people <= 100 ? 10 : people <= 1000 ? 100 : 1000;
  const rounded = Math.ceil(people / step) * step;
  return `You are in line, at most ${rounded.toLocaleString('en-US')} people ahead of you.`;
}
