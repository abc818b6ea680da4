/** The provider contract suite (test/providers/contract-suite.ts) for ec2, against its fake. */
import { defineContractSuite } from './contract-suite.js';

defineContractSuite('ec2');
