import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import * as ecr from 'aws-cdk-lib/aws-ecr';
import { Construct } from 'constructs';

/** Properties of {@link ImageRepository}. */
export interface ImageRepositoryProps {
  /** Repository name. */
  readonly repositoryName: string;
  /**
   * Tagged images to keep; older ones expire.
   * @default 50
   */
  readonly maxTaggedImages?: number;
  /**
   * Days after which untagged images (build leftovers) expire.
   * @default 14
   */
  readonly untaggedExpiryDays?: number;
}

/**
 * The ECR repository of the application image (built elsewhere, pushed here). Retained on
 * stack deletion in every environment: images are the only way back to a known release.
 */
export class ImageRepository extends Construct {
  public readonly repository: ecr.Repository;

  constructor(scope: Construct, id: string, props: ImageRepositoryProps) {
    super(scope, id);
    this.repository = new ecr.Repository(this, 'Repository', {
      repositoryName: props.repositoryName,
      imageScanOnPush: true,
      // Tags are what each colour runs; a moved tag would change a colour behind our back.
      imageTagMutability: ecr.TagMutability.IMMUTABLE,
      encryption: ecr.RepositoryEncryption.AES_256,
      removalPolicy: RemovalPolicy.RETAIN,
      lifecycleRules: [
        {
          rulePriority: 1,
          description: 'Expire untagged images',
          tagStatus: ecr.TagStatus.UNTAGGED,
          maxImageAge: Duration.days(props.untaggedExpiryDays ?? 14),
        },
        {
          rulePriority: 2,
          description: 'Keep the newest tagged images',
          tagStatus: ecr.TagStatus.ANY,
          maxImageCount: props.maxTaggedImages ?? 50,
        },
      ],
    });
  }
}
