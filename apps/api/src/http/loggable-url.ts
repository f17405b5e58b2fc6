/**
 * A URL as the request log may keep it: the value of any query parameter whose name suggests a
 * credential (`?access_token=`, `?password=`, `?api_key=`, `?code=` ...) is replaced, so a
 * client that puts a secret in the URL does not put it in the logs too. The request line is
 * logged for every answer: a URL without a query costs one search.
 */
const SENSITIVE = /token|passw|secret|key|sig|auth|session|code|credential|otp/i;

export function loggableUrl(url: string): string {
  const query = url.indexOf('?');
  if (query < 0) return url;
  const params = url
    .slice(query + 1)
    .split('&')
    .map((param) => {
      const equals = param.indexOf('=');
      if (equals < 0) return param;
      const name = param.slice(0, equals);
      return SENSITIVE.test(safeDecode(name)) ? `${name}=[redacted]` : param;
    });
  return `${url.slice(0, query)}?${params.join('&')}`;
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return text;
  }
}
