import type { OperationPlan, TemplateCreateInput } from '../../libs/contracts/src';

/**
 * template.create (Gigas): the VM's system disk is captured into the image store — the VM stopped, or its
 * filesystems frozen meanwhile — and the template becomes ready. Undone, the image goes and so does the record.
 */
export function createTemplatePlan({ nodeId, hostname, templateId, name, diskId, fsfreeze }: TemplateCreateInput): OperationPlan {
  return {
    steps: [
      {
        name: 'captureImage',
        do: {
          activity: 'captureImage',
          args: { nodeId, imageId: templateId, diskId, fsfreeze },
          summary: `Capture the system disk of ${hostname} as template ${name}${fsfreeze ? ', filesystems frozen' : ''}`,
        },
        undo: { activity: 'deleteImage', args: { nodeId, imageId: templateId }, summary: `Delete the image of ${name}` },
      },
      { name: 'recordTemplate', do: { activity: 'markTemplateReady', args: { templateId }, summary: `Record template ${name} as ready` } },
    ],
    afterCompensation: { activity: 'forgetTemplate', args: { templateId }, summary: `Drop the record of template ${name}` },
  };
}
