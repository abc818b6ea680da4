/**
 * The EC2 fake's checks must catch what they claim to: a model check that passes everything would
 * make every "no mismatches" assertion in the EC2 tests worthless.
 */
import { describe, expect, it } from 'vitest';
import { createHash, createHmac } from 'node:crypto';
import { decodeRequest, encodeResponse, errorXml } from './ec2-model.js';
import { verifySigV4 } from './ec2-sigv4.js';
import { applyFilters, paginate } from './ec2-filters.js';

const form = (pairs: Record<string, string>) => new URLSearchParams({ Version: '2016-11-15', ...pairs });

describe('EC2 query decoding against the botocore model', () => {
  it('decodes nested lists and structures by the ec2 protocol rules', () => {
    const d = decodeRequest(
      form({
        Action: 'AuthorizeSecurityGroupIngress',
        GroupId: 'sg-1',
        'IpPermissions.1.IpProtocol': 'tcp',
        'IpPermissions.1.FromPort': '8123',
        'IpPermissions.1.ToPort': '8123',
        'IpPermissions.1.IpRanges.1.CidrIp': '0.0.0.0/0',
        'IpPermissions.1.Ipv6Ranges.1.CidrIpv6': '::/0',
      }),
    );
    expect(d.problems).toEqual([]);
    expect(d.input).toEqual({ GroupId: 'sg-1', IpPermissions: [{ IpProtocol: 'tcp', FromPort: 8123, ToPort: 8123, IpRanges: [{ CidrIp: '0.0.0.0/0' }], Ipv6Ranges: [{ CidrIpv6: '::/0' }] }] });
    // locationName (Filter, Value) and queryName rules: DescribeInstances' Filters are Filter.N.Value.M.
    const f = decodeRequest(form({ Action: 'DescribeInstances', 'Filter.1.Name': 'tag:inletsctl', 'Filter.1.Value.1': 'true', MaxResults: '5' }));
    expect(f).toMatchObject({ problems: [], input: { Filters: [{ Name: 'tag:inletsctl', Values: ['true'] }], MaxResults: 5 } });
  });

  it('finds unknown parameters, bad numbering, missing required members, wrong types and enums', () => {
    const problems = (pairs: Record<string, string>) => decodeRequest(form(pairs)).problems.join('\n');
    expect(problems({ Action: 'DescribeInstances', 'Filters.1.Name': 'x' })).toMatch(/unknown parameter Filters/); // member name, not its locationName
    expect(problems({ Action: 'DescribeInstances', 'Filter.2.Name': 'x' })).toMatch(/numbered 1, 2, 3/);
    expect(problems({ Action: 'TerminateInstances' })).toMatch(/required parameter InstanceId is missing/);
    expect(problems({ Action: 'CreateSecurityGroup', GroupName: 'g', Description: 'd' })).toMatch(/unknown parameter Description.*\n.*required parameter GroupDescription/);
    expect(problems({ Action: 'RunInstances', MinCount: 'one', MaxCount: '1' })).toMatch(/MinCount=one is not an integer/);
    expect(problems({ Action: 'RunInstances', MinCount: '1', MaxCount: '1', InstanceType: 't9.tiny' })).toMatch(/not one of InstanceType's values/);
    expect(problems({ Action: 'RunInstances', MinCount: '1', MaxCount: '1', 'TagSpecification.1.ResourceType': 'teapot' })).toMatch(/ResourceType=teapot/);
    expect(problems({ Action: 'DescribeSecurityGroups', MaxResults: '2' })).toMatch(/MaxResults=2 is below 5/);
    expect(problems({ Action: 'RunInstances', MinCount: '1', MaxCount: '1', DryRun: 'yes' })).toMatch(/DryRun=yes is not true or false/);
    expect(problems({ Action: 'MakeItSo' })).toMatch(/not an EC2 operation/);
    expect(decodeRequest(new URLSearchParams({ Action: 'DescribeInstances', Version: '2015-10-01' })).problems).toEqual(['Version is 2015-10-01, not 2016-11-15']);
  });
});

describe('EC2 XML answers from the botocore model', () => {
  it('writes members by their locationName and lists as items', () => {
    const { xml, problems } = encodeResponse('DescribeInstances', { Reservations: [{ ReservationId: 'r-1', Instances: [{ InstanceId: 'i-1', State: { Code: 16, Name: 'running' }, PublicIpAddress: '127.0.0.5', Tags: [{ Key: 'a', Value: 'b' }] }] }] }, 'req-1');
    expect(problems).toEqual([]);
    expect(xml).toContain('<DescribeInstancesResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>req-1</requestId>');
    expect(xml).toContain('<reservationSet><item><reservationId>r-1</reservationId><instancesSet><item><instanceId>i-1</instanceId><instanceState><code>16</code><name>running</name></instanceState><ipAddress>127.0.0.5</ipAddress><tagSet><item><key>a</key><value>b</value></item></tagSet>');
  });

  it('finds members the model does not have, wrong types and values outside enums', () => {
    const { problems } = encodeResponse('DescribeInstances', { Reservations: [{ Instances: [{ InstanceID: 'i-1', State: { Code: '16', Name: 'sleeping' } }] }] }, 'r');
    expect(problems.join('\n')).toMatch(/InstanceID is not in Instance[\s\S]*Code must be a number[\s\S]*Name=sleeping is not one of/);
    expect(errorXml('DependencyViolation', 'a & b', 'r')).toBe('<?xml version="1.0" encoding="UTF-8"?>\n<Response><Errors><Error><Code>DependencyViolation</Code><Message>a &amp; b</Message></Error></Errors><RequestID>r</RequestID></Response>');
  });
});

describe('EC2 filters, pages and signatures', () => {
  it('matches wildcards and tags, refuses unknown filters, and pages with a token', () => {
    const items = ['debian-13-amd64-1', 'debian-13-arm64-1', 'debian-13-backports-amd64-1'].map((name) => ({ name, tags: [{ Key: 'k', Value: name.slice(-1) }] }));
    expect(applyFilters(items, [{ Name: 'name', Values: ['debian-13-amd64-*'] }], { name: (i) => i.name }).map((i) => i.name)).toEqual(['debian-13-amd64-1']);
    expect(applyFilters(items, [{ Name: 'tag:k', Values: ['?'] }], {})).toHaveLength(3);
    expect(() => applyFilters(items, [{ Name: 'nmae', Values: ['x'] }], { name: (i) => i.name })).toThrow(/The filter 'nmae' is invalid/);
    const first = paginate(items, { MaxResults: 5 }, { min: 5, max: 1000, cap: 2 });
    expect(first.page).toHaveLength(2);
    expect(paginate(items, { MaxResults: 5, NextToken: first.nextToken }, { min: 5, max: 1000, cap: 2 })).toEqual({ page: [items[2]], nextToken: undefined });
  });

  it('verifies a SigV4 signature and notices any change to the signed request', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY';
    const body = 'Action=DescribeInstances&Version=2016-11-15';
    const headers: Record<string, string> = { host: '127.0.0.1:1234', 'content-type': 'application/x-www-form-urlencoded', 'x-amz-date': '20261121T120000Z' };
    const signedHeaders = 'content-type;host;x-amz-date';
    const canonical = ['POST', '/', '', ...signedHeaders.split(';').map((h) => `${h}:${headers[h]}`), '', signedHeaders, sha256(body)].join('\n');
    const scope = '20261121/eu-west-1/ec2/aws4_request';
    let key: Buffer = hmac(`AWS4${secret}`, '20261121');
    for (const p of ['eu-west-1', 'ec2', 'aws4_request']) key = hmac(key, p);
    const signature = hmac(key, ['AWS4-HMAC-SHA256', '20261121T120000Z', scope, sha256(canonical)].join('\n')).toString('hex');
    headers.authorization = `AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
    const known = [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: secret }];
    expect(verifySigV4('POST', '/', headers, body, known)).toEqual({ ok: true, accessKeyId: 'AKIDEXAMPLE', region: 'eu-west-1' });
    expect(verifySigV4('POST', '/', headers, `${body}&DryRun=true`, known)).toMatchObject({ ok: false, reason: 'signature does not match' });
    expect(verifySigV4('POST', '/', { ...headers, host: 'elsewhere' }, body, known)).toMatchObject({ ok: false, reason: 'signature does not match' });
    expect(verifySigV4('POST', '/', headers, body, [{ accessKeyId: 'AKIDEXAMPLE', secretAccessKey: 'other' }])).toMatchObject({ ok: false });
    expect(verifySigV4('POST', '/', { ...headers, authorization: 'Bearer x' }, body, known)).toMatchObject({ ok: false, reason: 'no AWS4-HMAC-SHA256 Authorization header' });
  });
});

function sha256(s: string): string {
  return createHash('sha256').update(s).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data).digest();
}
