import { isIPv6 } from 'node:net';

/**
 * The unit a per-address limit counts: an IPv4 address as it is, an IPv6 address by its /64.
 * One IPv6 subscriber usually holds a whole /64 (often far more), so counting single IPv6
 * addresses would give one client 2^64 fresh addresses. IPv4-mapped IPv6 (`::ffff:1.2.3.4`,
 * what a dual-stack socket reports) is the IPv4 address.
 */
export function addressGroup(ip: string): string {
  const address = ip.split('%')[0]!; // a zone index (fe80::1%eth0) names a local interface
  const mapped = /^::ffff:(\d{1,3}(?:\.\d{1,3}){3})$/i.exec(address);
  if (mapped) return mapped[1]!;
  if (!isIPv6(address)) return ip;
  const [head = '', tail] = address.split('::');
  const groups = (part: string | undefined) =>
    part ? part.split(':').flatMap((group) => (group.includes('.') ? ['0', '0'] : [group])) : [];
  const left = groups(head);
  const right = groups(tail);
  const full =
    tail === undefined
      ? left
      : [...left, ...Array(8 - left.length - right.length).fill('0'), ...right];
  return `${full
    .slice(0, 4)
    .map((group) => parseInt(group, 16).toString(16))
    .join(':')}::/64`;
}
