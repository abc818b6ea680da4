/** The provider contract suite (test/providers/contract-suite.ts) for openstack, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('openstack');
