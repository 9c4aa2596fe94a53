import { CidrList } from '../http/cidr.ts'

/**
 * Addresses a webhook must not reach unless the sender allows it: loopback, private (RFC 1918,
 * unique local), link-local (cloud metadata at 169.254.169.254), carrier-grade NAT and
 * unspecified. A subscriber-supplied URL pointing there is server-side request forgery.
 */
export const privateNetworks = new CidrList(
  [
    '0.0.0.0/8',
    '10.0.0.0/8',
    '100.64.0.0/10',
    '127.0.0.0/8',
    '169.254.0.0/16',
    '172.16.0.0/12',
    '192.168.0.0/16',
    '::/128',
    '::1/128',
    'fc00::/7',
    'fe80::/10',
  ],
  { what: 'privateNetworks' },
)
