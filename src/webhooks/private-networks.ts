import { CidrList } from '../http/cidr.ts'

/**
 * Addresses a webhook must not reach unless the sender allows it: loopback, private (RFC 1918,
 * unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT, unspecified,
 * benchmarking, multicast and reserved, and the IPv6 forms that lead back to IPv4 inside
 * (NAT64 `64:ff9b::/96`, 6to4 `2002::/16`). A subscriber-supplied URL pointing there is server-side request forgery.
 */
export const privateNetworks = new CidrList(
  [
    '0.0.0.0/8',
    '10.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '172.16.0.0/12',
    '192.0.0.0/24',
    '192.168.0.0/16',
    '198.18.0.0/15',
    '224.0.0.0/4',
    '240.0.0.0/4',
    '::/128',
    '::1/128',
    '64:ff9b::/96',
    '64:ff9b:1::/48',
    '100::/64',
    '2002::/16',
    'fc00::/7',
    'fe80::/10',
    'ff00::/8',
  ],
  { what: 'privateNetworks' },
)
